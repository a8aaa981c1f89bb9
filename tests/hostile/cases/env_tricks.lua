-- attack: _ENV, load with a custom env, rawget(_G, ...), the main thread: look for a way back to the real globals
local H = require "hostile"
return H.adapter(function(page)
  local probes = {
    function() return rawget(_G, "os").execute end,
    function() return load("return os.execute", "x", "t", nil)() end,
    function() return load("return _ENV.os.execute", "x", "t", nil)() end,
    function() local _ENV = setmetatable({}, {__index = _G}); return io.popen end,
    function() return select(2, load("return ...", "x", "t", {}))(os).execute end,
    function() return getmetatable(_G) and getmetatable(_G).__index.os.execute end,
    function() return package and package.loaded.os.execute end,
    function() return debug and debug.getregistry end,
  }
  for i, probe in ipairs(probes) do
    local ok, fn = pcall(probe)
    if ok and type(fn) == "function" then
      pcall(fn, "touch " .. H.canary)
      H.escaped("probe " .. i .. " reached a function")
    end
  end
end)

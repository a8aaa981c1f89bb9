-- attack: load of a binary chunk (string.dump is reachable), through every load
local H = require "hostile"
return H.adapter(function(page)
  local bin = string.dump(function() return "binary ran" end)
  local tries = {
    function() return load(bin) end,
    function() return load(bin, "x", "b") end,
    function() return load(bin, "x", "bt", {}) end,
    function() local done; return load(function() if done then return nil end done = true return bin end) end,
  }
  for _, try in ipairs(tries) do
    local ok, chunk = pcall(try)
    if ok and chunk then H.escaped("a binary chunk loaded: " .. tostring(chunk())) end
  end
end)

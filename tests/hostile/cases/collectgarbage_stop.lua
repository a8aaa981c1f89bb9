-- attack: collectgarbage("stop"), ("generational"), ("incremental", ...) change the runtime's collector
local H = require "hostile"
return H.adapter(function(page)
  for _, opt in ipairs({"stop", "generational", "incremental", "setpause", "setstepmul"}) do
    pcall(collectgarbage, opt, 1000)
  end
  if not collectgarbage("isrunning") then
    collectgarbage("restart")
    H.escaped("stopped the runtime's garbage collector")
  end
end)

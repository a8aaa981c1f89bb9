-- attack: require of the runtime's own modules and the standard ones (glean.sandbox, glean.limits, os, io, debug)
local H = require "hostile"
return H.adapter(function(page)
  for _, name in ipairs({"glean.sandbox", "glean.limits", "glean.crawl", "glean.sched", "os", "io", "debug", "package"}) do
    local ok, mod = pcall(require, name)
    if ok and type(mod) == "table" then
      if name == "glean.limits" then mod.cap(0) end
      if name == "glean.sandbox" then mod.set("time_limit", 0) end
      if mod.execute then mod.execute("touch " .. H.canary) end
      H.escaped("required " .. name)
    end
  end
end)

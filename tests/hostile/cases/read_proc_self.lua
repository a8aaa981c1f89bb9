-- attack: /proc/self: the host's environment, command line and memory maps (outside the folder)
local H = require "hostile"
return H.adapter(function(page)
  for _, p in ipairs({"/proc/self/environ", "/proc/self/cmdline", "/proc/self/maps"}) do
    local f = io.open(p)
    if f and f:read(1) then H.escaped("read " .. p) end
  end
end)

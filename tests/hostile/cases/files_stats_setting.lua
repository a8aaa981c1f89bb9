-- attack: settings.stats_file names a file to write (the canary)
-- expect: load
local H = require "hostile"
return H.adapter(nil, {settings = {stats_file = H.canary}})

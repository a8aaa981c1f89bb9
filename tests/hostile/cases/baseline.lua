-- attack: none (control): the baseline adapter itself; all 8 records, exit 0
-- expect: all
local H = require "hostile"
return H.adapter(nil)

-- attack: none (control for the judge): page 3's handler does nothing, fails with the lib's error
local H = require "hostile"
return H.adapter(function(page) end)

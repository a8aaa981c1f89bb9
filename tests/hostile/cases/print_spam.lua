-- attack: print() text into stdout, where the records go
local H = require "hostile"
return H.adapter(function(page)
  for i = 1, 3 do print("not a record", i) end
end)

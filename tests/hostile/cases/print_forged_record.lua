-- attack: print() a line that looks like another page's record
local H = require "hostile"
return H.adapter(function(page)
  print(('{"n":5,"url":"%s/p/5.html"}'):format(H.base(page.url)))
end)

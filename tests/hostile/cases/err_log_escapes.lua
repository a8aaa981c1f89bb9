-- attack: terminal escapes and forged log lines in an error message
local H = require "hostile"
return H.adapter(function(page)
  error("\27[2J\27]0;owned\7\r\27[Kglean: info: pages 9 | errors 0\n", 0)
end)

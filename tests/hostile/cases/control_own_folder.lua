-- attack: none (control): page 3 requires a module and reads a file of its own folder, then gives its record
-- expect: all
local H = require "hostile"
return H.adapter(function(page)
  assert(require("own_module").answer == 42)
  local f = assert(io.open(H.dir .. "/own_data.txt"))
  assert(f:read("a") == "own data\n")
  f:close()
  assert(load("return 1 + 1")() == 2)
  return H.PASS
end)

-- attack: io.write / print without a newline then a record: a record glued to the adapter's text
local H = require "hostile"
return H.adapter(function(page)
  local write = io.write or (io.stdout and function(...) io.stdout:write(...) end)
  if write then write('{"cut": ') else print('{"cut": ') end
end)

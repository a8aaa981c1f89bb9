-- attack: a record with invalid UTF-8, NUL, control characters and U+2028 in its keys and values: still JSON lines?
-- expect: page-or-record
local H = require "hostile"
return H.adapter(function(page)
  return {url = "utf8", bad = "\xff\xfe\xc0\x80", nul = "a\0b", ctl = "\27[2J\r\n", ["key\n\xff"] = "\u{2028}"}
end)

-- The WARC-input benchmark's adapter (scripts/bench warc): every page is
-- parsed, nothing is emitted, so that what is measured is getting the
-- pages to the handler (from a WARC file, or from a --mirror directory).
return {
  name = "warc-bench",
  pages = {{match = function() return true end, parse = function(page) page:doc() end}},
}

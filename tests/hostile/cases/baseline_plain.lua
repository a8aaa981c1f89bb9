-- attack: none (control): the baseline written out without the shared lib
-- expect: all
return {
  name = "plain",
  pages = {
    {path = "^/$", follow = "a[href]"},
    {path = "^/p/%d+%.html$", parse = function(page)
      return {url = page.url, n = tonumber(page.url:match("/p/(%d+)%.html$"))}
    end},
  },
}

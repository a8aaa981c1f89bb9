-- attack: the adapter's main chunk loops (it runs under the limits too: the crawl stops, documented)
-- expect: load
while true do end

-- Larkspur (https://larkspur.example/), a small homeware shop: one record per
-- product, crawled through the paginated "All products" listing.
--
-- What the markup means here: a product page is one schema.org Product in
-- microdata (itemprop name, sku, description, image, and an Offer with
-- price, priceCurrency and availability). Prices are shown the Dutch way
-- ("€ 1.249,00", sometimes next to a struck-out old price), so the price is
-- read from the microdata, not from the text. The breadcrumb names the
-- categories, from "Home" (left out) down to the product itself (no link).
local glean = require "glean"

local function product(page)
  local item = page:select_one('[itemtype="https://schema.org/Product"]')
  if not item then return nil end -- not a product page
  local images = {}
  for _, img in ipairs(item:select("img[itemprop=image]")) do
    images[#images + 1] = img:absurl("src") -- relative and //cdn... alike
  end
  return {
    url = glean.url.canonical(page.url, {query = false}),
    name = page:text("[itemprop=name]"),
    sku = page:text("[itemprop=sku]"),
    price = tonumber(page:attr("[itemprop=offers] [itemprop=price]", "content")),
    currency = page:attr("[itemprop=offers] [itemprop=priceCurrency]", "content"),
    -- "https://schema.org/InStock" -> "InStock"
    availability = page:attr("[itemprop=offers] [itemprop=availability]", "href"):match("[^/]+$"),
    categories = page:texts(".breadcrumb li:not(:first-child) > a"),
    description = page:texts("[itemprop=description] p"),
    images = glean.json.array(images), -- a JSON list, never an object, even if it had holes (an error then)
  }
end

return {
  name = "larkspur",
  start_urls = {"https://larkspur.example/products/"},
  allowed_hosts = {"larkspur.example"},
  settings = {per_host = 2}, -- a small shop: two requests at a time
  pages = {
    {path = "^/products/$", follow = {".product-grid a[href]", "a[rel=next]"}},
    {path = "^/products/page/%d+/$", follow = {".product-grid a[href]", "a[rel=next]"}},
    {path = "^/product/[^/]+/$", parse = product, follow = ".related a[href]"},
  },
}

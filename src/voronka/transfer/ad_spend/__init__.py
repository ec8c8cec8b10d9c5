"""Daily ad spend (cost, impressions, clicks per campaign) from ad platforms' report exports.

``formats`` knows how Yandex Direct, VK Ads and Google Ads lay out their exports (title
lines above the header, Russian or English headers, totals rows, numbers with spaces or
commas, currency in the header or a column) plus a plain generic layout; ``grid`` reads a
CSV or XLSX file as raw rows; ``loader`` parses, matches campaigns by UTM values and writes
one row per campaign × day, replacing what an earlier import stored for it.
"""

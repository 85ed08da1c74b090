"""Pure extraction helpers: ``(html or Selector, url) -> fields``. No network, no storage."""

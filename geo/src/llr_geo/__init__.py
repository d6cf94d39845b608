"""LLR reference geography: postcodes, districts, centroids and deprivation."""

# JSON parser of the store module (GCS JSON API listings, metadata, error bodies).
otap_add_fuzz(store_json)

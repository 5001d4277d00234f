otap_add_fuzz(otap_records)

# XML listing / error page parser of the store module.
otap_add_fuzz(store_xml)

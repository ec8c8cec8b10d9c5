"""Reports: typed query in, ``Result`` out, each built from ibis expressions."""

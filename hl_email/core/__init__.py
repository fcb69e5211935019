"""Pure core of the gateway: values in, values out (no sockets, no clock reads)."""

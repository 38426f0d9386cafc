"""Desktop pieces of the plugin (spectra view, pixel tool); never imported by the algorithms."""

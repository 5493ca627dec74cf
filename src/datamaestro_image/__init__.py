"""Image data types, under the module name used by datamaestro_image definitions."""

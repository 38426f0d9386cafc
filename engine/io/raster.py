"""The public face of raster input/output: reading (``read``), writing (``write``) and the output
transaction (``transaction``)."""

from .read import (  # noqa: F401
    RasterData,
    RasterInfo,
    _band_list,
    central_values,
    default_bands,
    open_raster,
    pixel_validity,
    raster_info,
    read_block,
    read_raster,
    read_thumbnails,
    read_valid_pixels,
    source_transform,
    unreadable_message,
)
from .transaction import atomic_output, output_transaction  # noqa: F401
from .write import OUTPUT_DRIVERS, OUTPUT_NODATA, output_driver, output_profile, write_abundances, write_cube  # noqa: F401

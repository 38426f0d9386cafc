"""Path of the plugin icon, shared by the provider and the algorithms."""

import os

ICON_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "icons", "deepunmix.svg")

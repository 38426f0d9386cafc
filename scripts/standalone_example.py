"""Run a DeepUnmix algorithm from a standalone PyQGIS script (no QGIS desktop running).

Usage (with QGIS's Python, e.g. /usr/bin/python3 on Debian, or this checkout's .venv/bin/python):

    python3 standalone_example.py scene.tif output_folder [plugins_folder]

``plugins_folder`` is the folder that holds the ``deepunmix`` plugin folder; by default the one of
QGIS's default profile (where "Install from ZIP" puts it). In the QGIS Python console none of this is
needed: ``processing.run("deepunmix:...", {...})`` works as soon as the plugin is enabled.
"""

import os
import sys


def main(raster, out_dir, plugins_folder=None):
    from qgis.core import QgsApplication

    QgsApplication.setPrefixPath(os.environ.get("QGIS_PREFIX_PATH", "/usr"), True)
    app = QgsApplication([], False)  # False: no GUI
    app.initQgis()
    try:
        # 1. Processing (a Python plugin shipped with QGIS) and its algorithms
        sys.path.append(os.path.join(QgsApplication.prefixPath(), "share", "qgis", "python", "plugins"))
        import processing
        from processing.core.Processing import Processing

        Processing.initialize()

        # 2. the DeepUnmix provider: what QGIS desktop does when it loads the plugin
        plugins_folder = plugins_folder or os.path.join(QgsApplication.qgisSettingsDirPath(), "python", "plugins")
        sys.path.insert(0, plugins_folder)
        import deepunmix

        plugin = deepunmix.classFactory(None)
        plugin.initProcessing()  # registers deepunmix:* in QgsApplication.processingRegistry()

        # 3. run algorithms by id, as in the console
        extracted = processing.run(
            "deepunmix:extract_endmembers",
            {
                "INPUT": raster,
                "N_ENDMEMBERS": 3,
                "METHOD": 0,
                "SEED": 0,
                "OUTPUT_ENDMEMBERS": os.path.join(out_dir, "endmembers.csv"),
            },
        )
        unmixed = processing.run(
            "deepunmix:fcls",
            {
                "INPUT": raster,
                "ENDMEMBERS": extracted["OUTPUT_ENDMEMBERS"],
                "OUTPUT_ABUNDANCES": os.path.join(out_dir, "abundances.tif"),
            },
        )
        print(unmixed["OUTPUT_ABUNDANCES"])
        plugin.unload()
    finally:
        app.exitQgis()


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    main(*sys.argv[1:])

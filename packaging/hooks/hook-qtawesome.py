"""PyInstaller hook for qtawesome: its icon fonts and their charmaps are package data.

qtawesome loads every bundled font on first use, so all of them must be present.
"""

from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("qtawesome", includes=["fonts/*"])

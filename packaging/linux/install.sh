#!/bin/sh
# Install Backroom from this unpacked folder for the current user, with a menu entry:
#   ./install.sh              copy the app to ~/.local/share/backroom/app, link ~/.local/bin/backroom,
#                             add the menu entry and the icon
#   ./install.sh --uninstall  remove all of that again (profiles, history and settings stay)
# No root needed. XDG_DATA_HOME and the --bin-dir option are honoured.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
data_home=${XDG_DATA_HOME:-"$HOME/.local/share"}
bin_dir="$HOME/.local/bin"
app_dir="$data_home/backroom/app"
desktop_file="$data_home/applications/backroom.desktop"
icon_png="$data_home/icons/hicolor/256x256/apps/backroom.png"
icon_svg="$data_home/icons/hicolor/scalable/apps/backroom.svg"
action=install

while [ $# -gt 0 ]; do
    case "$1" in
        --uninstall) action=uninstall ;;
        --bin-dir) shift; bin_dir=${1:?--bin-dir needs a folder} ;;
        --bin-dir=*) bin_dir=${1#--bin-dir=} ;;
        -h|--help) sed -n '2,6s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option: $1 (see --help)" >&2; exit 3 ;;
    esac
    shift
done
link="$bin_dir/backroom"

refresh_menus() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$data_home/applications" 2>/dev/null || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q -t "$data_home/icons/hicolor" 2>/dev/null || true
    fi
}

if [ "$action" = uninstall ]; then
    if [ -L "$link" ]; then rm -f "$link"; fi
    rm -f "$desktop_file" "$icon_png" "$icon_svg"
    rm -rf "$app_dir"
    rmdir "$data_home/backroom" 2>/dev/null || true
    refresh_menus
    echo "Backroom is uninstalled. Your profiles, history and settings were left in place."
    exit 0
fi

if [ ! -x "$here/backroom" ] || [ ! -d "$here/_internal" ]; then
    echo "install.sh: run me from the unpacked Backroom folder (backroom and _internal/ next to me)" >&2
    exit 1
fi

if [ "$here" != "$app_dir" ]; then
    mkdir -p "$data_home/backroom"
    staging="$data_home/backroom/.app-new.$$"
    rm -rf "$staging"
    cp -a "$here" "$staging"
    rm -rf "$app_dir"
    mv "$staging" "$app_dir"
fi

mkdir -p "$bin_dir" "$data_home/applications" "$(dirname "$icon_png")" "$(dirname "$icon_svg")"
if [ -e "$link" ] && [ ! -L "$link" ]; then
    echo "install.sh: $link exists and is not a link; leaving it alone" >&2
else
    ln -sfn "$app_dir/backroom" "$link"
fi
cp "$app_dir/backroom.png" "$icon_png"
cp "$app_dir/backroom.svg" "$icon_svg"
# The menu runs the app by its full path: ~/.local/bin is not on every desktop session's PATH.
sed -e "s|^Exec=.*|Exec=\"$app_dir/backroom\"|" \
    -e "s|^TryExec=.*|TryExec=$app_dir/backroom|" \
    "$app_dir/backroom.desktop" > "$desktop_file"
chmod 644 "$desktop_file"
refresh_menus

echo "Backroom $("$app_dir/backroom" --version 2>/dev/null | sed 's/^backroom //') is installed:"
echo "  the app      $app_dir"
echo "  the command  $link"
echo "  the menu     $desktop_file"
case ":$PATH:" in
    *":$bin_dir:"*) ;;
    *) echo "Note: $bin_dir is not on your PATH; the menu entry works regardless." ;;
esac

#!/bin/sh
# Make dist/Backroom-<version>-macos.dmg from dist/Backroom.app (built by `backroom package` on a
# Mac: the spec's BUNDLE step). Signing and notarisation need an Apple Developer ID; set
# BACKROOM_SIGN_IDENTITY ("Developer ID Application: ...") and BACKROOM_NOTARY_PROFILE (a
# `xcrun notarytool store-credentials` profile) to do them, else the image is unsigned.
# Not run on the Linux build machine: see docs/packaging.md.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
app="$root/dist/Backroom.app"
version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$root/console/__init__.py")
dmg="$root/dist/Backroom-$version-macos-$(uname -m).dmg"
[ -d "$app" ] || { echo "make_dmg.sh: no $app; run \`backroom package\` first" >&2; exit 1; }

if [ -n "${BACKROOM_SIGN_IDENTITY:-}" ]; then
    codesign --force --deep --options runtime --timestamp --sign "$BACKROOM_SIGN_IDENTITY" "$app"
    codesign --verify --deep --strict "$app"
fi
rm -f "$dmg"
staging=$(mktemp -d)
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
hdiutil create -volname "Backroom $version" -srcfolder "$staging" -ov -format UDZO "$dmg"
rm -rf "$staging"
if [ -n "${BACKROOM_SIGN_IDENTITY:-}" ] && [ -n "${BACKROOM_NOTARY_PROFILE:-}" ]; then
    codesign --force --timestamp --sign "$BACKROOM_SIGN_IDENTITY" "$dmg"
    xcrun notarytool submit "$dmg" --keychain-profile "$BACKROOM_NOTARY_PROFILE" --wait
    xcrun stapler staple "$dmg"
fi
echo "make_dmg.sh: $dmg"

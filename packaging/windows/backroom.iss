; Inno Setup script for Backroom on Windows: installs dist\backroom\ (the PyInstaller one-folder
; build) per user, with a Start menu entry. Run by packaging/build.py when iscc is on PATH:
;   iscc /DAppVersion=0.1.0 /DSourceRoot=C:\path\to\backroom packaging\windows\backroom.iss
; Not built on the Linux build machine: see docs/packaging.md.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceRoot
  #define SourceRoot AddBackslash(SourcePath) + "..\.."
#endif

[Setup]
AppId={{6E3B7C4A-5D2F-4B8E-9A61-0C7F2D9B4E15}
AppName=Backroom
AppVersion={#AppVersion}
AppVerName=Backroom {#AppVersion}
AppPublisher=The Backroom team
AppComments=Admin console for the web back ends of restaurants and shops
DefaultDirName={autopf}\Backroom
DefaultGroupName=Backroom
DisableProgramGroupPage=yes
; Per-user by default (no administrator needed); an administrator may install for everyone.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
LicenseFile={#SourceRoot}\LICENSE
SetupIconFile={#SourceRoot}\build\pyinstaller\backroom\backroom.ico
UninstallDisplayIcon={app}\backroom.exe
OutputDir={#SourceRoot}\dist
OutputBaseFilename=backroom-{#AppVersion}-windows-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; backroom.exe (no console window), backroom-cli.exe (for diagnose from a terminal), _internal\,
; LICENSE, THIRD-PARTY.txt and licenses\.
Source: "{#SourceRoot}\dist\backroom\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; A new version replaces the old _internal folder whole: no stale modules from the last one.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\Backroom"; Filename: "{app}\backroom.exe"; Comment: "Bookings, orders, stock and the health of your shop's site"
Name: "{autodesktop}\Backroom"; Filename: "{app}\backroom.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\backroom.exe"; Description: "{cm:LaunchProgram,Backroom}"; Flags: nowait postinstall skipifsilent

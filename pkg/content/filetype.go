package content

import "strings"

// descriptions maps sniffed MIME types to file(1)-style descriptions, cut
// at the first comma as MailScanner did, so that old filetype rules keep
// working: "executable" and "MS-DOS" match Windows programs, "ELF" Unix
// ones, "script" scripts, "archive" archives, "text" text.
var descriptions = map[string]string{
	"application/vnd.microsoft.portable-executable": "PE32 executable for MS Windows (MS-DOS executable)",
	"application/x-msdownload":                      "PE32 executable for MS Windows (MS-DOS executable)",
	"application/x-dosexec":                         "MS-DOS executable",
	"application/x-elf":                             "ELF executable",
	"application/x-executable":                      "ELF executable",
	"application/x-sharedlib":                       "ELF shared object executable",
	"application/x-object":                          "ELF relocatable object",
	"application/x-coredump":                        "ELF core file",
	"application/x-mach-binary":                     "Mach-O executable",
	"application/x-ms-shortcut":                     "MS Windows shortcut",
	"application/x-ms-installer":                    "MSI Installer executable (Composite Document File V2 Document)",
	"application/x-msi":                             "MSI Installer executable (Composite Document File V2 Document)",
	"application/x-windows-installer":               "MSI Installer executable (Composite Document File V2 Document)",
	"application/x-installshield":                   "InstallShield self-extracting archive executable",
	"application/x-java-applet":                     "compiled Java class data",
	"application/x-shockwave-flash":                 "Macromedia Flash data",
	"application/x-sh":                              "POSIX shell script text executable",
	"text/x-shellscript":                            "POSIX shell script text executable",
	"application/x-shellscript":                     "POSIX shell script text executable",
	"text/x-python":                                 "Python script text executable",
	"application/x-python":                          "Python script text executable",
	"text/x-perl":                                   "Perl script text executable",
	"text/x-php":                                    "PHP script text",
	"text/x-lua":                                    "Lua script text executable",
	"text/x-tcl":                                    "Tcl script text executable",
	"application/x-ruby":                            "Ruby script text executable",
	"text/javascript":                               "JavaScript source text",
	"application/javascript":                        "JavaScript source text",
	"application/x-bytecode.python":                 "python compiled bytecode",
	"application/zip":                               "Zip archive data",
	"application/jar":                               "Java archive data (JAR)",
	"application/vnd.android.package-archive":       "Android package (APK) Zip archive data",
	"application/x-7z-compressed":                   "7-zip archive data",
	"application/vnd.rar":                           "RAR archive data",
	"application/x-rar-compressed":                  "RAR archive data",
	"application/x-tar":                             "POSIX tar archive",
	"application/gzip":                              "gzip compressed data",
	"application/x-bzip2":                           "bzip2 compressed data",
	"application/x-xz":                              "XZ compressed data",
	"application/zstd":                              "Zstandard compressed data",
	"application/x-lzip":                            "lzip compressed data",
	"application/vnd.ms-cab-compressed":             "Microsoft Cabinet archive data",
	"application/x-cpio":                            "cpio archive",
	"application/x-rpm":                             "RPM archive",
	"application/vnd.debian.binary-package":         "Debian binary package archive",
	"application/x-iso9660-image":                   "ISO 9660 CD-ROM filesystem data",
	"application/pdf":                               "PDF document",
	"application/postscript":                        "PostScript document text",
	"application/rtf":                               "Rich Text Format data",
	"text/rtf":                                      "Rich Text Format data",
	"application/x-ole-storage":                     "Composite Document File V2 Document",
	"application/msword":                            "Composite Document File V2 Document (Microsoft Word)",
	"application/vnd.ms-excel":                      "Composite Document File V2 Document (Microsoft Excel)",
	"application/vnd.ms-powerpoint":                 "Composite Document File V2 Document (Microsoft PowerPoint)",
	"application/vnd.ms-outlook":                    "Microsoft Outlook Message (Composite Document File V2 Document)",
	"application/vnd.ms-htmlhelp":                   "MS Windows HtmlHelp Data",
	"application/vnd.ms-tnef":                       "Transport Neutral Encapsulation Format",
	"text/plain":                                    "ASCII text",
	"text/html":                                     "HTML document text",
	"text/xml":                                      "XML document text",
	"application/xml":                               "XML document text",
	"text/csv":                                      "CSV text",
	"text/calendar":                                 "iCalendar text",
	"text/vcard":                                    "vCard visiting card text",
	"message/rfc822":                                "RFC 822 mail text",
	"application/octet-stream":                      "data",
}

// describe returns the description filetype rules are matched against.
func describe(mime string) string {
	if d, ok := descriptions[mime]; ok {
		return d
	}
	switch {
	case strings.HasPrefix(mime, "application/vnd.openxmlformats-officedocument.wordprocessingml"):
		return "Microsoft Word 2007+"
	case strings.HasPrefix(mime, "application/vnd.openxmlformats-officedocument.spreadsheetml"):
		return "Microsoft Excel 2007+"
	case strings.HasPrefix(mime, "application/vnd.openxmlformats-officedocument.presentationml"):
		return "Microsoft PowerPoint 2007+"
	case strings.HasPrefix(mime, "application/vnd.oasis.opendocument."):
		return "OpenDocument " + strings.TrimPrefix(mime, "application/vnd.oasis.opendocument.")
	case strings.HasPrefix(mime, "image/"):
		return strings.ToUpper(strings.TrimPrefix(mime, "image/")) + " image data"
	case strings.HasPrefix(mime, "audio/"), strings.HasPrefix(mime, "video/"):
		return strings.ToUpper(mime[strings.IndexByte(mime, '/')+1:]) + " media data"
	case strings.HasPrefix(mime, "text/"):
		return strings.TrimPrefix(mime, "text/") + " text"
	}
	return mime
}

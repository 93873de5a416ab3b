# sevenzip: 7-Zip, the external unpacker of qscan's [archives] sevenzip for
# the archives the Go readers cannot open (ARJ, CAB, CHM, disk images,
# Deflate64 zips). It is a program, not a daemon: "up" means the binary is
# installed; `env` names it for the tests (QSCAN_SEVENZIP).
# Sourced by scripts/teststack; see the plug-in contract in its header.

sevenzip_bin() {
	local p
	for p in /usr/bin/7zz /usr/bin/7z; do
		[[ -x $p ]] && { echo "$p"; return 0; }
	done
	return 1
}
sevenzip_packages() { echo 7zip; }
sevenzip_prepare() { :; }
# No process: the marker records that `start` saw the binary.
sevenzip_launch() { sevenzip_bin >"$RUN/sevenzip.ready"; }
sevenzip_answers() { sevenzip_bin >/dev/null && [[ -s $RUN/sevenzip.ready ]]; }
sevenzip_stop() { rm -f "$RUN/sevenzip.ready"; }
sevenzip_env() { sevenzip_bin | sed 's/^/QSCAN_SEVENZIP=/'; }
sevenzip_timeout() { echo 5; }

# need_libfuzzer.sh WHAT - sourced by tests/once/*_fuzz.sh: exit 77 (skip),
# naming WHAT, unless clang is here and can link a libFuzzer target.
need_libfuzzer() {
	local d
	command -v clang >/dev/null 2>&1 || { echo "clang not installed: $1 skipped"; exit 77; }
	d=$(mktemp -d /tmp/qvl-fuzzprobe.XXXXXX)
	echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}' >"$d/p.c"
	if ! clang -fsanitize=fuzzer "$d/p.c" -o "$d/p" 2>/dev/null; then
		rm -rf "$d"
		echo "clang has no libFuzzer: $1 skipped"; exit 77
	fi
	rm -rf "$d"
}

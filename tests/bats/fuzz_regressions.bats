# The fuzz targets (tests/fuzz): their seed corpora and every input a fuzzer crashed on, replayed
# through the targets built with gcc and ASan+UBSan (no libFuzzer), against this build's libpm.a.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
}

@test "fuzz: the seed corpora and the regressions replay through every target without a crash" {
	run -0 env FUZZ_LIBPM="${PM_BIN%/bin}/lib/libpm.a" FUZZ_OUT="$BATS_TEST_TMPDIR" "$PM_ROOT/tests/fuzz/run" --replay
	assert_line --regexp '^replay_stream_reader: replayed [1-9][0-9]* inputs$'
	assert_line --regexp '^replay_stream_members: replayed [1-9][0-9]* inputs$'
	assert_line --regexp '^replay_mapping: replayed [1-9][0-9]* inputs$'
	assert_line --regexp '^replay_transform: replayed [1-9][0-9]* inputs$'
}

/*
 * fuzz_stream_reader: the input is a whole stream file (gzip members or plain CSV).
 * pm may refuse it (exit 3, malformed, truncated, corrupt) but must not crash, and
 * what it accepts must survive a round trip: the records written again by the
 * stream writer and read back are the same records, NULL and '' kept apart.
 */
#include <string.h>

#include "harness.h"
#include "pm_error.h"
#include "stream_reader.h"
#include "stream_writer.h"

struct job {
	const char *path;
	struct bytebuf records; /* the first read, encoded: header, then records */
	size_t nrecords;
};

static void check_fields(const struct csv_record *rec, const char *what)
{
	for (size_t i = 0; i < rec->nfields; i++) {
		const struct csv_field *f = &rec->fields[i];
		if (f->null ? f->data != NULL || f->len != 0 : f->data == NULL || f->data[f->len] != '\0')
			fuzz_fail("%s %llu, field %zu: a NULL with data, or data not NUL-terminated", what,
				  (unsigned long long)rec->number, i + 1);
	}
}

/* Read the whole stream, keeping its records encoded, and write them out again as a stream. */
static void read_stream(void *arg)
{
	struct job *j = arg;
	struct stream_reader *r = stream_reader_open(j->path);
	const struct csv_record *h = stream_reader_header(r), *rec;

	check_fields(h, "header");
	if (h->nfields == 0)
		fuzz_fail("a header without columns");
	csv_record_encode(&j->records, h->fields, h->nfields);
	struct stream_writer *w = stream_writer_open(fuzz_path("roundtrip.gz"), 1);
	stream_writer_record(w, h->fields, h->nfields);
	while ((rec = stream_reader_next(r)) != NULL) {
		check_fields(rec, "record");
		if (rec->nfields != h->nfields)
			fuzz_fail("record %llu: %zu fields, the header %zu", (unsigned long long)rec->number, rec->nfields,
				  h->nfields);
		if (rec->number != ++j->nrecords)
			fuzz_fail("record %llu handed out as number %llu", (unsigned long long)j->nrecords,
				  (unsigned long long)rec->number);
		csv_record_encode(&j->records, rec->fields, rec->nfields);
		stream_writer_record(w, rec->fields, rec->nfields);
	}
	stream_reader_close(r);
	stream_writer_close(w);
}

/* Read the written stream back: it must hold exactly the records of the first read. */
static void read_back(void *arg)
{
	struct job *j = arg;
	struct stream_reader *r = stream_reader_open(fuzz_path("roundtrip.gz"));
	const struct csv_record *rec = stream_reader_header(r);
	struct bytebuf again = { 0 };
	size_t n = 0;

	do {
		csv_record_encode(&again, rec->fields, rec->nfields);
		n++;
	} while ((rec = stream_reader_next(r)) != NULL);
	stream_reader_close(r);
	if (n != j->nrecords + 1 || again.len != j->records.len || memcmp(again.data, j->records.data, again.len) != 0)
		fuzz_fail("round trip: %zu records read back, %zu written, or their content differs", n - 1, j->nrecords);
	bytebuf_free(&again);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz_stream_reader");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job j = { .path = fuzz_write("input", data, size) };
	int status = fuzz_call(read_stream, &j);

	if (status == -1) {
		status = fuzz_call(read_back, &j);
		if (status != -1)
			fuzz_fail("round trip: the stream written from an accepted stream is refused (exit %d)", status);
	} else if (status != PM_EXIT_DATA) {
		fuzz_fail("exit %d for a bad stream, not %d", status, PM_EXIT_DATA);
	} else {
		j.records = (struct bytebuf){ 0 }; /* given back with the rest of the abandoned call */
	}
	bytebuf_free(&j.records);
	return 0;
}

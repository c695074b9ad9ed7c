/* null_marker: a stream with its NULLs written as a marker (null_marker.h). */
#include "null_marker.h"

#include <stdlib.h>
#include <string.h>

#include "pm_error.h"
#include "stream_reader.h"
#include "stream_writer.h"

uint64_t null_marker_copy(const char *input, const char *output, int level, const char *marker)
{
	struct stream_writer *out = stream_writer_open(output, level);
	struct stream_reader *in = stream_reader_open(input);
	const struct csv_record *h = stream_reader_header(in);
	const struct csv_record *rec;
	struct csv_field *fields = pm_malloc(h->nfields * sizeof *fields);
	size_t marker_len = strlen(marker);
	uint64_t records = 0;

	/* Header names are never NULL; one that is the marker still reads as a name. */
	stream_writer_record(out, h->fields, h->nfields);
	while ((rec = stream_reader_next(in)) != NULL) {
		for (size_t i = 0; i < rec->nfields; i++) {
			const struct csv_field *f = &rec->fields[i];
			if (f->null) {
				fields[i] = (struct csv_field){ marker, marker_len, false };
			} else if (f->len == marker_len && memcmp(f->data, marker, marker_len) == 0) {
				pm_die(PM_EXIT_DATA,
				       "%s: record %llu: column \"%s\" holds the marker \"%s\" as its value, which would read as NULL: choose another --null",
				       stream_reader_name(in), (unsigned long long)rec->number, h->fields[i].data, marker);
			} else {
				fields[i] = *f;
			}
		}
		stream_writer_record(out, fields, rec->nfields);
		records++;
	}
	stream_reader_close(in);
	stream_writer_close(out);
	free(fields);
	return records;
}

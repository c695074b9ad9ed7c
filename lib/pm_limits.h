/*
 * pm_limits: the bounds pm puts on what a hostile stream or mapping file can make it
 * hold, each documented in pm-stream(5) or pm-map(5).  Without them a 2 MB gzip could
 * ask for gigabytes, or for hours of work.
 */
#ifndef PM_LIMITS_H
#define PM_LIMITS_H

/* PostgreSQL's own limit on a table's columns: no table can take a wider record. */
#define PM_MAX_COLUMNS 1600

/*
 * A record's bytes (its fields' text as read): far under PostgreSQL's 1 GB for a value,
 * far over any row of the site, and small enough that the field being read and the
 * record holding it stay within the tools' flat memory however long a stream's field is.
 */
#define PM_MAX_RECORD_MIB 16
#define PM_MAX_RECORD_BYTES ((size_t)PM_MAX_RECORD_MIB * 1024 * 1024)

/* A limit as text, for messages built at compile time. */
#define PM_STRINGIFY_(x) #x
#define PM_STRINGIFY(x) PM_STRINGIFY_(x)

#endif

/*
 * pm_limits: the bounds pm puts on what a hostile stream or mapping file can make it
 * hold, each documented in pm-stream(5) or pm-map(5).  Without them a 2 MB gzip could
 * ask for gigabytes, or for hours of work.
 */
#ifndef PM_LIMITS_H
#define PM_LIMITS_H

/* PostgreSQL's own limit on a table's columns: no table can take a wider record. */
#define PM_MAX_COLUMNS 1600

/* A limit as text, for messages built at compile time. */
#define PM_STRINGIFY_(x) #x
#define PM_STRINGIFY(x) PM_STRINGIFY_(x)

#endif

"""Reminders, chasing (催办) and escalation (督办): services and selectors.

Protocol (each step is safe to run twice, or twice at once):

1. ``reminders_decide(now)`` looks at what falls due (report cycles, deadlines, milestones,
   returned reports, tasks not received, reports awaiting review), applies each plan's ladder on
   the working calendar and inserts one Reminder per (task, step, item, day), insert-or-ignore.
2. ``digests_assemble(now)`` puts every new reminder in one Digest per (recipient, channel, day),
   insert-or-ignore, with one Delivery per digest (per robot for a department's webhooks). A
   digest takes items until its first delivery claim seals it; later items wait for the next
   working day's digest.
3. ``deliveries_due(now)`` lists deliveries to hand to workers; ``delivery_send(id, now)`` claims
   one with a conditional UPDATE and a lease, sends it, records the attempt, and schedules a retry
   with backoff or gives up. A delivery whose worker died is claimable again when its lease ends.

The database is the only schedule: a broker message says "look at delivery 42 now", never
"remind at T". Everything runs only inside the sending window (08:30-18:00 on working days by
default); a sweep outside it does nothing, a delivery outside it waits for the next window.

Modules, in protocol order: ``window`` (the sending window), ``due`` (what falls due), ``ladder``
(step 1), ``digests`` (step 2, and how a digest reads), ``delivery`` (step 3), ``sweep`` (the
three steps in one call), ``notifications`` (who hears of a report, a review, an instruction or
a chase; the services call it), ``chasing`` (催办 and department robots), ``inbox`` (what the
pages read), ``services`` (what the pages write: marking notifications read). Callers import the
module that defines a name; this package re-exports nothing.
"""

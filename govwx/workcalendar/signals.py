"""What the calendar tells the apps above it (which it may not import).

`year_confirmed` is sent inside the transaction that confirms a year (keyword `year`,
and `actor`): receivers recompute what they planned provisionally for that year —
the desk's deadlines, the rota's shifts — so that the confirmation and its consequences
commit together or not at all.
"""

from django.dispatch import Signal

year_confirmed = Signal()

"""Where winners are decided: the tally of jury rounds, the audience prizes, prizes,
publication and exports. Reads jury scores and votes through narrow query functions of
``contest.jury`` and ``contest.voting``."""

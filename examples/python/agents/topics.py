"""What the example's agents share: who they are, what they are asked, how they answer.

The four agent types and their weights are the source system's vnode counts; with
``VNODES = 1`` point per unit of weight, an agent of weight w has exactly w points on
the ring (QueryEngine 100, MediaEngine 80, InsightEngine 120, ReportEngine 60).
"""

from __future__ import annotations

import shoal

#: Agent id (also its role) → placement weight.
AGENTS = {
    "QueryEngine": 100,
    "MediaEngine": 80,
    "InsightEngine": 120,
    "ReportEngine": 60,
}

#: Ring points per unit of weight.
VNODES = 1

#: Agent `id` consumes the bus endpoint ``PREFIX + id``.
PREFIX = "agent/"

#: The bus topic agents post their results to.
FORUM = "forum"

#: The research questions routed to the agents (the key is the question itself). Any
#: text works; these eight happen to give every agent two.
TOPICS = [
    "How did readers react to the city's new bike-lane plan?",
    "Which video clips drove the festival ticket complaints?",
    "Has trust in the water utility recovered since spring?",
    "Weekly report: public mood on the transit fare rise",
    "How do parents talk about the playground renovation?",
    "What do forum threads say about the late-night bus cuts?",
    "Which rumours about the stadium deal spread fastest?",
    "Brief the mayor on the hospital waiting-time story",
]

#: Words too common to be a finding.
COMMON = {"about", "which", "since", "their", "there", "would", "weekly", "report"}


def expected_ring() -> shoal.Ring:
    """The ring every member builds from the live agents (the dispatcher has weight 0)."""
    ring = shoal.Ring(vnodes=VNODES)
    for agent, weight in AGENTS.items():
        ring.add(agent, weight)
    return ring


def analyse(agent: str, topic: str) -> str:
    """The agent's (deterministic, offline) answer to a topic."""
    h = shoal.key_hash(f"{agent}|{topic}")
    words = sorted(
        w for w in {w.strip("?,.:'").lower() for w in topic.split()} - COMMON if len(w) > 4
    )
    focus = words[h % len(words)] if words else "-"
    if agent == "QueryEngine":
        return f"{20 + h % 180} posts match; most discussed term: {focus!r}"
    if agent == "MediaEngine":
        return f"{h % 40} clips and {h % 90} images reviewed; recurring subject: {focus!r}"
    if agent == "InsightEngine":
        sentiment = (h % 201 - 100) / 100
        return f"sentiment {sentiment:+.2f} over {h % 30 + 3} weeks; driver: {focus!r}"
    return f"brief drafted: {h % 5 + 3} sections, lead item {focus!r}"

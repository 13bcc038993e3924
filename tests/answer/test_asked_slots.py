"""The asked slots of questions written for this table: measure, subject, place, period, scope."""
# ruff: noqa: E501  (one question a line: the table reads as a table)

from __future__ import annotations

import pytest

from rag.answer.question import ASKED_MEASURES, AskedSlots, analyze

# (question, measure, subject words that must be in the subject, place, period, scope); None
# leaves a slot unchecked. Paraphrases, word orders and follow-ups of the same few facts.
CASES = [
    # growth, in many words
    ("How much did Xinjiang live-streaming sales grow?", "growth", "live-streaming sales", "Xinjiang", "", "part"),
    ("By what percentage did online retail sales rise in Xinjiang?", "growth", "online retail sales", "Xinjiang", "", ""),
    ("How fast are Gansu's parcel deliveries growing?", "growth", None, "Gansu", "", None),
    ("What was the year-on-year increase in Yichang's online sales?", "growth", None, "Yichang", "", None),
    ("What was the growth rate of exports in 2024?", "growth", None, "", "2024", None),
    ("What coalition rose up to oppose the king?", "other", None, "", "", None),
    ("What kinds of growth did the programme encourage?", "other", None, "", "", None),
    ("By how much did total online retail sales climb in the first half of 2024?", "growth", "total online retail sales", "", "H1 2024", "total"),
    ("How much have rural online sales in Hubei surged?", "growth", None, "Hubei", "", None),
    ("what about the growth of cross-border exports?", "growth", "cross-border exports", "", "", None),
    ("Overall, how much did Shanghai's e-commerce sales increase?", "growth", None, "Shanghai", "", "total"),
    ("How sharply did parcel volumes fall in March 2023?", "growth", None, "", "2023-03", None),
    ("How much did sales of smartphones jump during Double 11?", "growth", "sales", "", "", None),
    ("Sales of farm produce in Xinjiang: by what percent did they increase?", "growth", None, "Xinjiang", "", None),
    # share and rate
    ("What share of total sales came from online channels?", "share", None, "", "", "total"),
    ("What proportion of China's trade is cross-border e-commerce?", "share", None, "China", "", None),
    ("How much of the cross-border trade was exports?", "share", None, "", "", None),
    ("What percentage of shoppers in Chengdu bought online?", "share", None, "Chengdu", "", None),
    ("Which fraction of retail sales do services account for?", "share", None, "", "", None),
    ("What automation rate did the logistics park reach?", "rate", "automation rate", "", "", None),
    ("What is the penetration rate of live commerce?", "rate", None, "", "", None),
    # amounts of money
    ("What were network retail sales at the Chongqing 618 festival?", "amount", "network retail sales", "Chongqing", "", None),
    ("How much did the festival bring in, in US dollars?", "amount", None, "", "", None),
    ("What was the value of China's cross-border e-commerce trade in 2024?", "amount", "cross-border e-commerce trade", "China", "2024", None),
    ("How much were Yichang's online sales worth from January to May 2024?", "amount", None, "Yichang", "2024-01/2024-05", None),
    ("What was JD Group's revenue last quarter?", "amount", "revenue", "JD Group", None, None),
    ("How much money did Hangzhou's sellers earn?", "amount", None, "Hangzhou", "", None),
    ("How many US dollars did the enterprises make online?", "amount", None, "", "", None),
    ("What was the total value of Xinjiang's online retail sales in yuan?", "amount", None, "Xinjiang", "", "total"),
    # quantities of other things than money
    ("How much coal did Watt's engine use?", "quantity", None, None, "", None),
    ("How much imported oil came from the Middle East?", "quantity", None, None, "", None),
    # prices
    ("What price do Zigui's oranges sell for online?", "price", None, "Zigui", "", None),
    ("How much does a pack of the hanging tissue cost?", "price", None, "", "", None),
    ("What is the average price of a kiwifruit box?", "price", None, "", "", None),
    # counts
    ("How many brands took part in the Chongqing 618 festival?", "count", "brands", "Chongqing", "", None),
    ("How many live-streaming sessions were held in Xinjiang?", "count", "live-streaming sessions", "Xinjiang", "", None),
    ("How many interactive experience zones does the mall have?", "count", "interactive experience zones", "", "", None),
    ("How many people watched live streams in Xinjiang?", "count", "people", "Xinjiang", "", None),
    ("What is the population of Yichang?", "count", "population", "Yichang", "", None),
    ("How many packs of tissue did JD sell in its first six months?", "count", "packs", "JD", None, None),
    ("And how many jobs did the shops create?", "count", "jobs", "", "", None),
    ("What number of parcels did the hub handle in 2023?", "count", None, "", "2023", None),
    # sizes
    ("How large is the JD MALL in Chongqing?", "size", None, "Chongqing", "", None),
    ("How big was China's online retail market in 2024?", "size", "online retail market", "China", "2024", None),
    ("What is the floor area of the logistics park?", "size", None, "", "", None),
    # durations
    ("How long did the 2025 Chongqing 618 festival run?", "duration", None, "Chongqing", "", None),
    ("How quickly can an order be dispatched from the park?", "duration", None, "", "", None),
    ("How soon can a package leave the warehouse?", "duration", None, "", "", None),
    ("For how many years in a row has China led online retail?", "duration", None, "China", "", None),
    ("How many hours a day does the hub operate?", "duration", None, "", "", None),
    # dates
    ("When did JD sign its agreements with Chongqing?", "date", None, None, "", None),
    ("On what date were the figures released?", "date", None, "", "", None),
    ("In what year did the park open?", "date", None, "", "", None),
    ("Which month did the subsidy programme launch?", "date", None, "", "", None),
    # lists
    ("Which products drove Xinjiang's online growth?", "list", None, "Xinjiang", "", None),
    ("What specialty items from Zigui are sold through livestreaming?", "list", "specialty items", "Zigui", "", None),
    ("Which Xinjiang agricultural goods are most popular online?", "list", None, None, "", None),
    ("Which industrial clusters are linked to the platforms?", "list", None, "", "", None),
    ("Name some goods sold by Yichang livestreamers.", "list", None, None, "", None),
    # places
    ("Where is JD's logistics hub in Chongqing?", "place", None, None, "", None),
    ("In which district did JD open its largest mall?", "place", None, None, "", None),
    ("Which city ranked first for online transactions?", "place", None, "", "", None),
    # people and organisations
    ("Who wrote the Xinjiang article?", "agent", None, None, "", None),
    ("Which company co-developed the hanging tissue?", "agent", None, "", "", None),
    ("Which car information app rolled out an e-commerce model?", "agent", None, "", "", None),
    ("Which research firm's forecast is cited?", "agent", None, "", "", None),
    # ranks, reasons and the rest
    ("What rank did Yichang hold among Douyin's top cities?", "rank", None, "Yichang", "", None),
    ("Why did rural e-commerce grow so fast?", "reason", None, "", "", None),
    ("What drove the demand for dryers?", "reason", None, "", "", None),
    ("What variety of orange does Zigui County sell?", "other", None, "Zigui County", "", None),
    ("What is the capital of Australia?", "other", None, "Australia", "", None),
]  # fmt: skip


def test_the_table_is_large_and_covers_every_measure() -> None:
    assert len(CASES) >= 60
    assert {case[1] for case in CASES} == set(ASKED_MEASURES)


@pytest.mark.parametrize(("question", "measure", "subject", "place", "period", "scope"), CASES)
def test_asked_slots(question, measure, subject, place, period, scope) -> None:
    slots = analyze(question).slots
    assert isinstance(slots, AskedSlots)
    assert slots.measure == measure, slots
    if subject is not None:
        assert subject.lower() in slots.subject.lower(), slots
    if place is not None:
        assert slots.place == place, slots
    if period is not None:
        assert slots.period == period, slots
    if scope is not None:
        assert slots.scope == scope, slots


def test_what_is_asked_reads_as_words() -> None:
    slots = analyze("How many live-streaming sessions were held during the Chongqing 618 festival?")
    assert slots.slots.describe() == "a number of live-streaming sessions for Chongqing"
    growth = analyze("How much did Tibet's live-streaming sales grow in the first half of 2024?")
    assert growth.slots.describe() == "a growth rate of live-streaming sales for Tibet in H1 2024"
    assert not analyze("Who wrote the Xinjiang article?").slots.wants_figure

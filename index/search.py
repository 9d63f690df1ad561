"""Hybrid search: exact references first, then lexical ∥ dense candidates fused, filtered, grouped.

Fusion is weighted reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009):
    score(c) = Σ_s w_s / (k + rank_s(c))
with the lexical weight raised for long, story-like questions, where the small multilingual model is
weakest, and lowered for short paraphrase-like queries. Passages are aggregated to articles (``ref``)
and articles to groups (a document or a service). Parameters were tuned on ../shared/eval/dev only.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index.analysis import DEFAULT_ANALYZER, STOPWORDS
from index.build import DOCUMENTS_FILE
from index.embed import Embedder
from index.fusion import reciprocal_rank_fusion, weighted_fusion
from index.generation import LoadedGeneration, load_current
from index.lexical import LexicalIndex, expand_typos
from index.references import ActCatalog, Resolution, find_references
from index.thesaurus import Thesaurus, load_thesaurus
from index.topic import TopicModel, load_topic_model
from ingest.errors import XizmatError
from ingest.langid import detect_language
from ingest.normalize import clean_text, fix_lookalikes
from ingest.records import Chunk, CitationPath
from ingest.transliterate import cyrillic_to_latin, latin_to_cyrillic

__all__ = [
    "FILTER_FIELDS",
    "FusionParams",
    "Group",
    "HybridSearcher",
    "Passage",
    "QueryError",
    "SearchFilters",
    "SearchResult",
]

logger = logging.getLogger(__name__)

FILTER_FIELDS = ("kind", "act", "authority", "category", "status", "script", "date_from", "date_to")
LANG_FILTERS = ("uz", "uz-Latn", "uz-Cyrl", "ru", "en")
# Above this language-detection confidence a Cyrillic query is taken to be Uzbek (see _script_neutral).
UZ_CYRL_CONFIDENCE = 0.75
# Short or chat-spelled Uzbek Latin is detected with 0.5–0.75; no English or Russian query of the golden
# sets is taken for Uzbek Latin at all, so its canonical form is safe from 0.5.
UZ_LATN_CONFIDENCE = 0.5
QUERY_VECTOR_CACHE = 512
_WORD = re.compile(r"[^\W_]+(?:['ʻʼ’‘`´][^\W_]+)*")
_ALL_STOPWORDS = frozenset().union(*STOPWORDS.values())


class QueryError(XizmatError):
    """A query or its options are out of range (codes: empty_query, query_too_long, invalid_k,
    invalid_page, unknown_filter, invalid_filter)."""

    code = "invalid_query"


@dataclass(frozen=True)
class FusionParams:
    """Knobs of hybrid ranking. Questions (``long_query_words`` words or more, against search-box
    queries of a few words) have
    their own values, tuned on the dev set of story-like questions (eval/tune.py, docs/retrieval.md);
    the short-query values are the untuned defaults, checked on the sample golden set."""

    rrf_k: float = 60.0
    lexical_weight: float = 1.0
    dense_weight: float = 1.0
    thesaurus_weight: float = 0.5
    # Act routing: an article's score grows with its act's share of the top candidates' scores.
    act_prior: float = 0.0
    long_query_words: int = 5
    long_rrf_k: float = 20.0
    long_lexical_weight: float = 1.5
    long_dense_weight: float = 0.5
    long_thesaurus_weight: float = 1.0
    long_act_prior: float = 1.0
    act_prior_depth: int = 50
    # Chapter routing: the same within an act, by the chapter's share of the top candidates (a question
    # about dismissal is answered by the articles of one chapter, not by special regimes elsewhere).
    chapter_prior: float = 0.0
    long_chapter_prior: float = 2.0
    # Heading re-scoring: × (1 + w × idf-weighted share of the article's title met by the query's tokens).
    heading_weight: float = 0.0
    long_heading_weight: float = 2.0
    heading_depth: int = 100
    candidates: int = 200
    typo_max_tokens: int = 4
    mode: str = "rrf"  # "rrf" | "weighted" | "lexical" | "dense"
    # A language or script filter picks the version shown, not the text ranked: translations share refs,
    # so a Russian question filtered to Uzbek is ranked against the Russian text of a translated act too.
    translation_bridge: bool = True


@dataclass(frozen=True)
class SearchFilters:
    """Restrictions on results; empty fields do not restrict."""

    lang: str = ""
    kind: str = ""
    act: str = ""
    authority: str = ""
    category: str = ""
    status: str = ""
    script: str = ""
    date_from: str = ""
    date_to: str = ""

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> SearchFilters:
        """Filters from ``key=value`` pairs; an unknown key is an error naming the allowed ones."""
        unknown = sorted(set(values) - set(FILTER_FIELDS) - {"lang"})
        if unknown:
            raise QueryError(
                f"unknown filter {', '.join(unknown)}; allowed: lang, {', '.join(FILTER_FIELDS)}",
                code="unknown_filter",
            )
        filters = cls(**{k: str(v) for k, v in values.items()})
        if filters.lang and filters.lang not in LANG_FILTERS:
            raise QueryError(
                f"lang={filters.lang!r} is not one of {', '.join(LANG_FILTERS)}", code="invalid_filter"
            )
        return filters

    def active(self) -> bool:
        return any(asdict(self).values())


@dataclass(frozen=True)
class Passage:
    """A cited passage with the offsets of the matched words."""

    chunk_id: int
    ref: str
    doc_id: str
    text: str
    citation: str
    highlights: list[list[int]]
    score: float
    path: dict[str, str]


@dataclass(frozen=True)
class Group:
    """A document or service with its best passages."""

    id: str
    kind: str
    title: str
    url: str
    status: str
    score: float
    passages: list[Passage]
    lang: str = ""
    authority: str = ""


@dataclass(frozen=True)
class SearchResult:
    """The answer to one search: groups best first, plus what was understood of the query."""

    query_id: str
    lang: str
    script: str
    groups: list[Group]
    total_groups: int = 0
    reference: dict[str, Any] | None = None
    refs: list[tuple[str, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("refs")
        return data


@dataclass(frozen=True)
class _Ranking:
    refs: list[tuple[str, float]]
    docs: dict[str, str]
    resolution: Resolution | None
    tokens: set[str]


class HybridSearcher:
    """Searches one loaded generation; thread-safe for reads."""

    def __init__(
        self,
        generation: LoadedGeneration,
        lexical: LexicalIndex,
        embedder: Embedder,
        *,
        params: FusionParams | None = None,
        thesaurus: Thesaurus | None = None,
        topic: TopicModel | None = None,
    ) -> None:
        self.generation = generation
        self.lexical = lexical
        self.embedder = embedder
        self.params = params or FusionParams()
        self.thesaurus = thesaurus if thesaurus is not None else load_thesaurus()
        # The topic signal of index.answer, fitted for this embedder (None when it has none).
        self.topic = topic if topic is not None else load_topic_model(embedder.id, embedder.dim)
        self._vectors: dict[str, np.ndarray] = {}
        self._titles: dict[str, tuple[tuple[frozenset[str], float], ...]] = {}
        self.chunks: dict[int, Chunk] = {}
        for row in generation.iter_chunks():
            row["path"] = CitationPath(**row["path"])
            chunk = Chunk(**row)
            self.chunks[chunk.id] = chunk
        docs = json.loads((generation.path / DOCUMENTS_FILE).read_text(encoding="utf-8"))
        self.documents: dict[str, dict[str, Any]] = {d["id"]: d for d in docs}
        self.by_ref: dict[str, list[int]] = defaultdict(list)
        for chunk in self.chunks.values():
            self.by_ref[chunk.ref].append(chunk.id)
        for ids in self.by_ref.values():
            ids.sort(key=lambda i: self.chunks[i].seq)
        titles: dict[str, list[str]] = defaultdict(list)
        for d in self.documents.values():
            if d["kind"] != "service":
                titles[d["work_id"]] += [t for t in (d["short_title"], d["title"]) if t]
        self.catalog = ActCatalog.from_articles(
            ((self.documents[c.doc_id]["work_id"], c.article_id, "") for c in self.chunks.values()
             if self.documents[c.doc_id]["kind"] != "service"),
            titles,
        )

    @classmethod
    def open(cls, data_dir: Path, embedder: Embedder, *, params: FusionParams | None = None) -> HybridSearcher:
        """Load the published generation of a data directory."""
        # A damaged published generation falls back to the newest valid older one (flagged ``fallback``).
        generation = load_current(data_dir, embedder_id=embedder.id, dim=embedder.dim, fallback=True)
        lexical = LexicalIndex.load(generation.lexical_dir)
        return cls(generation, lexical, embedder, params=params)

    # -- public ----------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        page: int = 1,
        filters: SearchFilters | None = None,
        passages_per_group: int = 3,
        max_query_chars: int = 1000,
    ) -> SearchResult:
        """Ranked groups for a query, with cited, highlighted passages."""
        text = self._check(query, k=k, page=page, max_query_chars=max_query_chars)
        filters = filters or SearchFilters()
        guess = detect_language(text)
        ranking = self._rank(text, filters=filters, limit=max(200, k * page * 5), prefer_lang=guess.lang)
        start = (page - 1) * k
        groups, total = self._group(ranking, passages_per_group, start=start, stop=start + k)
        return SearchResult(
            query_id=uuid.uuid4().hex, lang=guess.tag, script=guess.script, groups=groups,
            total_groups=total, reference=_resolution_dict(ranking.resolution), refs=ranking.refs,
        )

    def rank_refs(
        self, query: str, *, filters: SearchFilters | None = None, limit: int = 100
    ) -> tuple[list[tuple[str, float]], Resolution | None, set[str]]:
        """Articles (refs) best first with their fused scores, the resolved reference, the query tokens."""
        ranking = self._rank(query, filters=filters or SearchFilters(), limit=limit, prefer_lang="")
        return ranking.refs, ranking.resolution, ranking.tokens

    def _rank(self, query: str, *, filters: SearchFilters, limit: int, prefer_lang: str) -> _Ranking:
        allowed = self._allowed(filters) if filters.active() else None
        pool = allowed
        if allowed is not None and (filters.lang or filters.script) and self.params.translation_bridge:
            unshown = replace(filters, lang="", script="")
            pool = self._allowed(unshown) if unshown.active() else None
        resolution = find_references(query, self.catalog)
        query = self._script_neutral(query)
        tokens, weights, long_query = self._query_tokens(query)
        chunk_scores = self._fuse(query, tokens, weights, pool, long_query=long_query)
        act_prior = self.params.long_act_prior if long_query else self.params.act_prior
        if act_prior > 0:
            chunk_scores = self._route_to_acts(chunk_scores, act_prior)
        chapter_prior = self.params.long_chapter_prior if long_query else self.params.chapter_prior
        if chapter_prior > 0:
            chunk_scores = self._route_to_chapters(chunk_scores, chapter_prior)
        ref_scores: dict[str, float] = {}
        best: dict[str, int] = {}
        for chunk_id, score in chunk_scores.items():
            ref = self.chunks[chunk_id].ref
            if allowed is not None and chunk_id not in allowed and not self._ref_allowed(ref, allowed):
                continue  # no version of this article passes the language or script filter
            if score > ref_scores.get(ref, -1.0):
                ref_scores[ref] = score
                best[ref] = chunk_id
        ranked = sorted(ref_scores.items(), key=lambda kv: -kv[1])
        heading_weight = self.params.long_heading_weight if long_query else self.params.heading_weight
        if heading_weight > 0 and ranked:
            ranked = self._rescore_headings(ranked, tokens, weights, heading_weight)
        if resolution is not None and resolution.status == "found":
            top = (ranked[0][1] if ranked else 0.0) + 1.0
            pinned = [(r, top) for r in resolution.refs if self._ref_allowed(r, allowed)]
            ranked = pinned + [(r, s) for r, s in ranked if r not in resolution.refs]
        ranked = ranked[:limit]
        docs = {ref: self._doc_for(ref, best.get(ref), chunk_scores, allowed, prefer_lang) for ref, _ in ranked}
        return _Ranking(refs=ranked, docs=docs, resolution=resolution, tokens=set(tokens))

    def _doc_for(
        self, ref: str, best: int | None, scores: Mapping[int, float], allowed: set[int] | None, prefer_lang: str
    ) -> str:
        """The document that shows an article: one in the query's language when the article exists in
        it (translations share refs), else the one whose chunk scored best."""
        ids = [i for i in self.by_ref[ref] if allowed is None or i in allowed]
        if prefer_lang:
            same = [i for i in ids if self.chunks[i].lang.split("-")[0] == prefer_lang]
            if same:
                return self.chunks[max(same, key=lambda i: scores.get(i, 0.0))].doc_id
        if best is None or best not in ids:  # the best chunk is in a translation the filter does not show
            best = max(ids, key=lambda i: scores.get(i, 0.0))
        return self.chunks[best].doc_id

    def chunk(self, chunk_id: int) -> Chunk | None:
        return self.chunks.get(chunk_id)

    def dense_hits(self, query: str, *, k: int = 10) -> list[tuple[int, float]]:
        """The ``k`` chunks nearest to the query's embedding with their cosine similarities (unfiltered)."""
        return self.generation.dense.search(self.query_vector(query), max(1, min(k, len(self.chunks))))

    def query_vector(self, query: str) -> np.ndarray:
        """The query embedding the dense search uses for ``query`` (cached)."""
        return self._query_vector(self.query_form(query))

    def clear_query_vectors(self) -> None:
        """Forget the cached query embeddings (benchmarks that time the embedding with the search)."""
        self._vectors.clear()

    @classmethod
    def query_form(cls, query: str) -> str:
        """The text that is embedded for ``query``: cleaned, and Uzbek in one canonical Latin form."""
        return cls._script_neutral(clean_text(query).strip())

    # -- internals ---------------------------------------------------------------------------

    @staticmethod
    def _check(query: str, *, k: int, page: int, max_query_chars: int) -> str:
        if not isinstance(k, int) or not 1 <= k <= 100:
            raise QueryError(f"k={k} is out of range; ask for 1 to 100 results", code="invalid_k")
        if not isinstance(page, int) or not 1 <= page <= 100:
            raise QueryError(f"page={page} is out of range; use 1 to 100", code="invalid_page")
        if len(query) > max_query_chars:
            raise QueryError(
                f"the query has {len(query)} characters, above the limit of {max_query_chars}; shorten it",
                code="query_too_long",
            )
        text = fix_lookalikes(clean_text(query).strip())  # the lexical keys of documents do the same
        if not text:
            raise QueryError("the query is empty; type a few words", code="empty_query")
        words = [re.sub("['ʻʼ’‘`´]", "", w).replace("ё", "е") for w in _WORD.findall(text.casefold())]
        if all(word in _ALL_STOPWORDS for word in words):  # also true when there is no word at all
            raise QueryError(
                f"the query {text[:80]!r} has no search words, only common words or signs; add the words that matter",
                code="empty_query",
            )
        return text

    @staticmethod
    def _script_neutral(query: str) -> str:
        """A query that is clearly Uzbek is searched in one canonical Latin form, so that both scripts
        return the same results (most Uzbek text, and the model's best Uzbek, is Latin): Cyrillic is
        transliterated, and Latin goes to Cyrillic and back, which settles its apostrophes (oʻ, gʻ, ʼ) and
        chat spellings (w for sh, c for ch) the way a Cyrillic typist's question would come out, so the
        dense vector is the same for both. Ambiguous Cyrillic ("паспорт") stays as typed and is analysed
        both as Russian and as Uzbek."""
        guess = detect_language(query)
        if guess.tag == "uz-Cyrl" and guess.confidence >= UZ_CYRL_CONFIDENCE:
            return cyrillic_to_latin(query)
        if guess.tag == "uz-Latn" and guess.confidence >= UZ_LATN_CONFIDENCE:
            return cyrillic_to_latin(latin_to_cyrillic(query))
        return query

    def _query_tokens(self, query: str) -> tuple[list[str], list[float], bool]:
        """Analysed tokens with their weights (typo repairs and thesaurus terms added), and whether
        the query counts as a long question."""
        p = self.params
        tokens = DEFAULT_ANALYZER.analyze_query(query)
        long_query = len(_WORD.findall(query)) >= p.long_query_words
        if 0 < len(tokens) <= p.typo_max_tokens:
            fixes = expand_typos(tokens, self.lexical.typo_vocabulary)
            for right in fixes.values():
                tokens += [t for t in right[:2] if t not in tokens]
        weight = p.long_thesaurus_weight if long_query else p.thesaurus_weight
        expanded, weights = self.thesaurus.expand(tokens, weight=weight) if weight > 0 else (tokens, [1.0] * len(tokens))
        return expanded, weights, long_query

    def _fuse(
        self, query: str, tokens: list[str], weights: list[float], allowed: set[int] | None, *, long_query: bool
    ) -> dict[int, float]:
        p = self.params
        n = p.candidates if allowed is None else max(p.candidates * 5, 1000)
        lexical = self.lexical.search(tokens, k=n, weights=weights) if tokens and p.mode != "dense" else []
        dense: list[tuple[int, float]] = []
        if p.mode != "lexical":
            dense = self.generation.dense.search(self._query_vector(query), min(n, len(self.chunks)))
        if allowed is not None:
            lexical = [(i, s) for i, s in lexical if i in allowed]
            dense = [(i, s) for i, s in dense if i in allowed]
        w_lex = p.long_lexical_weight if long_query else p.lexical_weight
        w_dense = p.long_dense_weight if long_query else p.dense_weight
        if p.mode == "weighted":
            return weighted_fusion((lexical, dense), (w_lex, w_dense))
        return reciprocal_rank_fusion((lexical, dense), (w_lex, w_dense), k=p.long_rrf_k if long_query else p.rrf_k)

    def _query_vector(self, query: str) -> np.ndarray:
        """The query's embedding; the last few hundred are kept (repeated and paged queries are common)."""
        vector = self._vectors.get(query)
        if vector is None:
            vector = self.embedder.embed_queries([query])[0]
            if len(self._vectors) >= QUERY_VECTOR_CACHE:
                self._vectors.pop(next(iter(self._vectors)))
            self._vectors[query] = vector
        return vector

    def _route_to_acts(self, scores: dict[int, float], act_prior: float) -> dict[int, float]:
        """Boost candidates of the acts that dominate the top of the ranking (a question about wages
        is mostly answered by the Labour Code): score × (1 + act_prior × share of the act)."""
        return self._route(scores, act_prior, lambda chunk: chunk.ref.split("::", 1)[0])

    def _route_to_chapters(self, scores: dict[int, float], chapter_prior: float) -> dict[int, float]:
        """The same one level down, by chapter within an act. Chunks outside any chapter (acts divided
        into sections only) are left as they are."""
        return self._route(
            scores, chapter_prior,
            lambda chunk: (chunk.ref.split("::", 1)[0], chunk.path.chapter) if chunk.path.chapter else None,
        )

    def _route(
        self, scores: dict[int, float], prior: float, group: Callable[[Chunk], Hashable | None]
    ) -> dict[int, float]:
        """score × (1 + prior × the share of the chunk's group in the top ``act_prior_depth`` scores);
        a chunk whose group is None keeps its score."""
        top = sorted(scores.items(), key=lambda kv: -kv[1])[: self.params.act_prior_depth]
        total = sum(s for _, s in top) or 1.0
        mass: dict[Hashable, float] = defaultdict(float)
        for chunk_id, score in top:
            key = group(self.chunks[chunk_id])
            if key is not None:
                mass[key] += score / total
        out = {}
        for i, s in scores.items():
            key = group(self.chunks[i])
            out[i] = s * (1.0 + prior * mass.get(key, 0.0)) if key is not None else s
        return out

    def _rescore_headings(
        self, ranked: list[tuple[str, float]], tokens: list[str], weights: list[float], heading_weight: float
    ) -> list[tuple[str, float]]:
        """Re-score the top ``heading_depth`` articles by how much of their title the query meets:
        score × (1 + heading_weight × Σ_{t ∈ title ∩ query} w_t·idf(t) / Σ_{t ∈ title} idf(t)), with the
        BM25 idf of the lexical index and the best of the article's titles (one per language). A title
        names the article's subject in statutory terms, so a title met by the question (or by its
        thesaurus terms) marks the article that is about it, not one that merely mentions its words."""
        idf = {t: self._idf(t) for t in set(tokens) if t in self.lexical.vocabulary}
        query: dict[str, float] = {}
        for t, w in zip(tokens, weights):
            if t in idf:
                query[t] = max(query.get(t, 0.0), w * idf[t])
        if not query:
            return ranked

        def share(ref: str) -> float:
            return max((sum(query[t] for t in title if t in query) / mass for title, mass in self._title_tokens(ref)),
                       default=0.0)

        depth = self.params.heading_depth
        head = [(r, s * (1.0 + heading_weight * share(r))) for r, s in ranked[:depth]]
        head.sort(key=lambda kv: -kv[1])
        return head + ranked[depth:]

    def _idf(self, token: str) -> float:
        df, n = self.lexical.vocabulary.get(token, 0), max(len(self.lexical), 1)
        return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))

    def _title_tokens(self, ref: str) -> tuple[tuple[frozenset[str], float], ...]:
        """Analysed tokens of an article's titles (see ``_subject_line``) with their idf mass, one per
        language version of the article; cached per article."""
        cached = self._titles.get(ref)
        if cached is None:
            chunks = (self.chunks[i] for i in self.by_ref.get(ref, ()))
            titles = sorted({(c.lang, _subject_line(c)) for c in chunks})
            analysed = (frozenset(DEFAULT_ANALYZER.analyze(title, lang=lang)) for lang, title in titles)
            cached = tuple((t, m) for t in analysed if (m := sum(self._idf(x) for x in t)) > 0)
            self._titles[ref] = cached
        return cached

    def _allowed(self, f: SearchFilters) -> set[int]:
        allowed = set()
        for chunk in self.chunks.values():
            d = self.documents[chunk.doc_id]
            if f.lang and not (d["lang"] == f.lang or (f.lang == "uz" and d["lang"].startswith("uz"))):
                continue
            if f.kind and d["kind"] != f.kind:
                continue
            if f.act and f.act not in (d["id"], d["work_id"]):
                continue
            if f.authority and f.authority.casefold() not in d["authority"].casefold():
                continue
            if f.category and f.category.casefold() != d["category"].casefold():
                continue
            if f.status and d["status"] != f.status:
                continue
            if f.script and d["script"] != f.script:
                continue
            if f.date_from and (not d["adopted"] or d["adopted"] < f.date_from):
                continue
            if f.date_to and (not d["adopted"] or d["adopted"] > f.date_to):
                continue
            allowed.add(chunk.id)
        return allowed

    def _ref_allowed(self, ref: str, allowed: set[int] | None) -> bool:
        return allowed is None or any(i in allowed for i in self.by_ref.get(ref, ()))

    def _group(self, ranking: _Ranking, per_group: int, *, start: int, stop: int) -> tuple[list[Group], int]:
        """The groups ``start:stop`` of the ranking (documents or services, best first), each with the
        passages of its best ``per_group`` articles, and the number of groups in all. Passages (and their
        highlights, most of a search's time) are made for the groups returned only."""
        groups: dict[str, tuple[float, list[tuple[str, float]]]] = {}
        for ref, score in ranking.refs:
            _, refs = groups.setdefault(ranking.docs[ref], (score, []))
            if len(refs) < per_group:
                refs.append((ref, score))
        out = []
        for doc_id, (score, refs) in list(groups.items())[start:stop]:
            d = self.documents[doc_id]
            passages = [self._best_passage(ref, doc_id, s, ranking.tokens) for ref, s in refs]
            out.append(
                Group(
                    id=doc_id, kind=d["kind"], title=d["title"], url=d["url"], status=d["status"],
                    score=round(score, 6), passages=passages, lang=d["lang"], authority=d["authority"],
                )
            )
        return out, len(groups)

    def _best_passage(self, ref: str, doc_id: str, score: float, tokens: set[str]) -> Passage:
        """Of an article's chunks in one document, the one matching most query tokens (the first of
        equals), highlighted once."""
        candidates = [self.chunks[i] for i in self.by_ref[ref] if self.chunks[i].doc_id == doc_id]
        highlights, chunk = max(((_highlights(c.text, c.lang, tokens), c) for c in candidates),
                                key=lambda hc: (len(hc[0]), -hc[1].seq))
        return Passage(
            chunk_id=chunk.id, ref=chunk.ref, doc_id=chunk.doc_id, text=chunk.text, citation=chunk.citation,
            highlights=highlights, score=round(score, 6), path=chunk.path.as_dict(),
        )


def _subject_line(chunk: Chunk) -> str:
    """What a passage is about, in the document's own words: the article's title (the heading after
    "N-modda." / "статья N."); for a passage without one (a numbered point of a regulation, a section
    of a service description) its act's title with its chapter's title and any label that is not a
    number ("Kerakli hujjatlar"), so that untitled passages compete with titled articles on equal terms."""
    if ". " in chunk.heading:
        return chunk.heading.split(". ", 1)[1]
    path = chunk.path
    chapter = path.chapter.split(". ", 1)[1] if ". " in path.chapter else ""
    label = "" if any(ch.isdigit() for ch in path.article) else path.article
    return " ".join(part for part in (path.act, chapter, label) if part)


@lru_cache(maxsize=200_000)
def _word_tokens(word: str, lang: str) -> tuple[str, ...]:
    return tuple(DEFAULT_ANALYZER.analyze(word, lang=lang))


@lru_cache(maxsize=8192)
def _word_spans(text: str) -> dict[str, tuple[tuple[int, int], ...]]:
    """Each distinct word of ``text`` with its [start, end) offsets (cached: the same passages come back)."""
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for m in _WORD.finditer(text):
        spans[m.group(0)].append((m.start(), m.end()))
    return {word: tuple(found) for word, found in spans.items()}


def _highlights(text: str, lang: str, tokens: set[str]) -> list[list[int]]:
    """[start, end) offsets of the words in ``text`` whose analysis meets the query tokens."""
    if not tokens:
        return []
    hits = [span for word, spans in _word_spans(text).items()
            if not tokens.isdisjoint(_word_tokens(word, lang)) for span in spans]
    return [list(span) for span in sorted(hits)]


def _resolution_dict(resolution: Resolution | None) -> dict[str, Any] | None:
    if resolution is None:
        return None
    return {
        "status": resolution.status, "refs": list(resolution.refs), "candidates": list(resolution.candidates),
        "message": resolution.message, "article": resolution.reference.article_id,
        "act": resolution.reference.act_text,
    }


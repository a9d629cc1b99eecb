"""The expertise feature: who knows what, and how to reach them."""

from handlers.expertise.feature import ExpertiseFeature
from handlers.expertise.search import ExpertiseSearch, load_synonyms

__all__ = ["ExpertiseFeature", "ExpertiseSearch", "load_synonyms"]

"""Architectures of G and D (registry ``ARCHS``) and PacGAN's packing of D's inputs."""

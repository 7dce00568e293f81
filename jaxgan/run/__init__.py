"""Running one GAN: the compiled training steps, the driver and its periodic actions, what a
run writes, checkpoints, and a saved run read back."""

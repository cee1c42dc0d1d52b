"""The lecture's chapters, one module per chapter id, numbered in play order.

Each module holds one storyboard, ``storyboard(scene, runs)``, written as a shot list with
``# Beat n:`` comments; :mod:`scenes.lecture` lists them in order. Shots two chapters share
(a training replay, a 3-D hidden space) are in :mod:`scenes.chapters.shots`.
"""

from govwx.cli import main

main()

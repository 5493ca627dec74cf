from datamaestro.cli.main import main

raise SystemExit(main())

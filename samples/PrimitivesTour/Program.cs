Console.WriteLine("PrimitivesTour");
return 0;
